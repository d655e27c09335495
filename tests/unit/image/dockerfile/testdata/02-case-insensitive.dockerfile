from busybox AS Base
Run echo lower
cmd echo shell form
eNtRyPoInT ["/bin/sh", "-c"]
