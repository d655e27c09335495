ARG A=1
RUN echo no FROM yet
FROM busybox
