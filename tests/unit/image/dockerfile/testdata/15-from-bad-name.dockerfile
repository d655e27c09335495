FROM busybox AS 1st
