# model server: code, binaries, weights, processed features, the site's images
FROM scratch
COPY app.py /srv/
COPY bin /srv/bin
COPY models /srv/models
COPY data/processed /srv/data/processed
COPY assets/img /srv/static/img
