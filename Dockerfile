# One image for both roles: `npm run api` or `npm run worker` (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV HOST=0.0.0.0 PORT=2024 LOG_LEVEL=info
EXPOSE 2024
CMD ["npm", "run", "api"]
