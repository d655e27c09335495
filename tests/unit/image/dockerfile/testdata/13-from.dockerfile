ARG VERSION=1.36
ARG BASE
FROM busybox:${VERSION} AS builder
FROM --platform=linux/amd64 scratch as Final.Stage-1_x
FROM builder
FROM $BASE
