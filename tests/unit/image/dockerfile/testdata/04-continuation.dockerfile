FROM busybox
RUN apt-get update && \
    apt-get install -y \
      curl \
    && echo done
RUN echo a \   
    b
RUN echo one \
# a comment inside a continuation is skipped
    two
RUN echo "escaped escape at the end is not a continuation" \\
CMD echo next
