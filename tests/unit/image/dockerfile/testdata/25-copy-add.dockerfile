FROM busybox AS src
FROM busybox
COPY a b /dest/
COPY ["with space", "/dest dir/"]
COPY --from=src --chown=1000:1000 --chmod=0644 /app /app
COPY --link --parents --exclude=*.tmp --exclude=*.bak src/ /out/
COPY --chown="user name:group" x /y
ADD https://example.com/file.tar.gz /tmp/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d --link --keep-git-dir=true x /y
ADD --unpack=false arch.tar /z
