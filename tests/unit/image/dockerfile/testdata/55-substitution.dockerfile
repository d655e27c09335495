ARG REGISTRY=docker.io
ARG IMAGE=${REGISTRY}/library/busybox
ARG TAG
FROM ${IMAGE}:${TAG:-latest} AS base
ENV APP=/app HOME=/root
ENV LOG="$APP/log" QUOTED='$APP' ESC=\$APP
ARG USER=app
ARG EMPTY=
WORKDIR ${APP:+$APP/src}
USER ${USER}:${GROUP-staff}
COPY --chown=$USER ${APP}/a "$HOME"/b $APP/
ADD ${EMPTY:-fallback}.tar ${EMPTY-unset}/
LABEL "$APP"="${LOG%/log}" path=${LOG#/}
EXPOSE ${PORT:-8080} 9090
VOLUME ["$APP/data"]
STOPSIGNAL ${SIG:-SIGTERM}
RUN echo $APP is not expanded by the builder
CMD ["$APP"]
FROM base
WORKDIR $APP
USER ${MISSING
