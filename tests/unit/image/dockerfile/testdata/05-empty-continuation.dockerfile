FROM busybox
RUN echo a \

    b
EXPOSE 80
