#!/usr/bin/env bash
# Writes a realistic Dockerfile for each benchmark tree beside it, as
# CORPORA_DIR/TREE.ctxpack.Dockerfile (outside the tree: the generated
# trees are left as the generators made them; node-app's and monorepo's
# own `Dockerfile` holds the generators' filler bytes).  Each copies part
# of what the tree's .dockerignore sends, as such an app's image would:
# `ctxpack stats -f CORPORA_DIR/TREE.ctxpack.Dockerfile CORPORA_DIR/TREE`
# then reports used and unused bytes (bench/used_cost.sh).
#
# usage: bench/used_dockerfiles.sh CORPORA_DIR
set -euo pipefail
corpora=${1:?usage: bench/used_dockerfiles.sh CORPORA_DIR}

cat >"$corpora/node-app.ctxpack.Dockerfile" <<'DF'
# syntax=docker/dockerfile:1
ARG APP=/app
FROM scratch AS build
ARG APP
WORKDIR $APP
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.server.json next.config.js postcss.config.js tailwind.config.js ./
COPY src/ ./src/
COPY server ./server
COPY public ./public

FROM scratch
ARG APP
COPY --from=build ${APP} ${APP}
DF

cat >"$corpora/monorepo.ctxpack.Dockerfile" <<'DF'
FROM scratch AS deps
WORKDIR /repo
COPY package.json yarn.lock tsconfig.json tsconfig.base.json babel.config.ts ./
COPY packages/babel-core/ packages/babel-core/
COPY packages/babel-parser packages/babel-parser
COPY packages/babel-helper-* packages/

FROM deps AS build
COPY scripts/ scripts/
COPY lib lib
COPY packages/ packages/
DF

cat >"$corpora/many-small.ctxpack.Dockerfile" <<'DF'
FROM scratch
ENV SITE=/usr/lib/python3/site-packages
COPY vendor/p00*/ $SITE/
COPY vendor/p01[0-4]/m? $SITE/
RUN --mount=type=bind,source=vendor/p020,target=/src true
DF

cat >"$corpora/few-large.ctxpack.Dockerfile" <<'DF'
FROM scratch AS model
COPY models/*.safetensors models/tokenizer.json /opt/model/

FROM scratch
COPY --from=model /opt/model /opt/model
COPY bin/server bin/worker /usr/local/bin/
COPY data/processed/ /data/
COPY assets/img /srv/static/img
DF
echo "used_dockerfiles.sh: wrote $corpora/{node-app,monorepo,many-small,few-large}.ctxpack.Dockerfile"
