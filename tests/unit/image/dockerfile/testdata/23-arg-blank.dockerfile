FROM busybox
ARG =1
