FROM busybox
RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=.,target=/src --network=none echo hi
RUN --network=host --security=insecure ["echo", "exec"]
