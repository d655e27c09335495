FROM busybox
ENV A 1
ENV B two words  here
ENV C=3 D="four five" E=six\ seven F=
ENV G='$NOT' H="${A}x"
ENV PATH=/usr/local/bin:$PATH
