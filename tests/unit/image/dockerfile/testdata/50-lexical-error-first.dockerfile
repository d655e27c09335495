FROM busybox
FOO unknown instruction comes first
RUN <<EOF
but the unterminated heredoc is a parse error of the whole file
