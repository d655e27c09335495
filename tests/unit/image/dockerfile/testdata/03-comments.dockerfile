# a comment before anything
   # an indented comment

FROM busybox
# between instructions
RUN echo one # not a comment: part of the command
  RUN echo indented instruction
