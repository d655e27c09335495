FROM busybox
RUN echo bom