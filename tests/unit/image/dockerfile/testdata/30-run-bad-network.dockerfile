FROM busybox
RUN --network=bridge true
