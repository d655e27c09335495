# About my dockerfile
# escape=`
FROM busybox
RUN echo backslash \
  continues
