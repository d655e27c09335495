FROM busybox
LABEL tx-build="1"
RUN echo built > /tx-file
COPY hello.txt /hello.txt
CMD ["cat", "/tx-file"]
