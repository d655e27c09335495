ARG GLOBAL=g
FROM busybox
ARG A
ARG B=1 C="two words" D=
ARG E=${GLOBAL:-x}
