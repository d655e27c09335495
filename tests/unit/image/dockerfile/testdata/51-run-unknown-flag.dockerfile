FROM busybox
RUN --link=false echo x
