# Next.js app, production image: dependencies are installed in the image
FROM scratch
WORKDIR /app
COPY package.json package-lock.json ./
COPY next.config.js tailwind.config.js postcss.config.js tsconfig.json ./
COPY public ./public
COPY src ./src
COPY server ./server
