FROM busybox
ONBUILD from busybox
