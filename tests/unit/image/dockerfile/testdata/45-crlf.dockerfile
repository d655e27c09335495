FROM busybox
RUN echo crlf \
  continued
