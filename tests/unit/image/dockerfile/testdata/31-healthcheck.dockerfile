FROM busybox
HEALTHCHECK NONE
HEALTHCHECK --interval=5m --timeout=3s --start-period=1.5s --start-interval=100ms --retries=3 CMD curl -f http://localhost/ || exit 1
HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]
healthcheck cmd true
HEALTHCHECK --interval=0s CMD true
