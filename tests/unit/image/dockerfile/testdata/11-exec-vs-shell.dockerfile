FROM busybox
CMD ["echo", "exec form"]
CMD ["echo", 'single quotes make it shell form']
CMD [ "spaces" , "ok" ]
CMD ["trailing"] garbage
CMD []
CMD
ENTRYPOINT []
ENTRYPOINT ["a\"b", "\u00e9"]
RUN ["sh", "-c", "echo $HOME"]
RUN echo $HOME
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
