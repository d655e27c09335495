FROM busybox
RUN echo at end of file \
