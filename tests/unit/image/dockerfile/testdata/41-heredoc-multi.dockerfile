FROM busybox
RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2
I am
first
FILE1
I am
second
FILE2
COPY <<EOF /dest/config
key=value
EOF
COPY <<one <<two /dest/
1
one
2
two
ONBUILD RUN <<EOF
echo later
EOF
