FROM busybox
RUN 3<<EOF cat <&3
fd three
EOF
RUN cat <<EOF>/out
no space
EOF>/out
