FROM busybox
RUN <<EOF
echo hello
echo $HOME
EOF
RUN <<'EOT' bash
echo "no expansion: $HOME"
EOT
RUN python3 <<"PY"
print("hi")
PY
RUN ["echo", "<<EOF"]
