# syntax=docker/dockerfile:1.7
#  ESCAPE = \
# check=skip=all
# unknown=directive
# escape=`
FROM busybox
RUN echo \
  still backslash continues
