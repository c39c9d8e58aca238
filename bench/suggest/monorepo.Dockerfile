# CI test image for the babel monorepo: sources and tests, the tool configs
FROM scratch
WORKDIR /repo
COPY package.json yarn.lock .yarnrc.yml ./
COPY .yarn/releases ./.yarn/releases
COPY .yarn/plugins ./.yarn/plugins
COPY .yarn/patches ./.yarn/patches
COPY babel.config.ts babel-worker.ts tsconfig.json tsconfig.base.json tsconfig.paths.json jest.config.ts Makefile.js Makefile Gulpfile.ts ./
COPY packages ./packages
COPY eslint ./eslint
COPY codemods ./codemods
COPY scripts ./scripts
COPY test ./test
