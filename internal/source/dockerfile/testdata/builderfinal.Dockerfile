FROM --platform=$BUILDPLATFORM node:20 AS deps
RUN npm ci
FROM deps
CMD ["node", "server.js"]
