FROM busybox
MAINTAINER Jane Doe <jane@example.com>
WORKDIR /path/to/$DIR
USER app:app
EXPOSE 8080/tcp 80 443/udp
VOLUME ["/data", "/var/log"]
VOLUME /a /b
STOPSIGNAL SIGKILL
