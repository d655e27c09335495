FROM busybox
FROM busybox AS
