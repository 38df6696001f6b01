FROM --platform=$BUILDPLATFORM node:20 AS assets
RUN npm ci && npm run build
RUN --mount=from=busybox:1.36,target=/bb /bb/bin/true
RUN --mount=type=cache,target=/root/.npm npm ci

FROM nginx:1.27-alpine
COPY --from=assets /dist /usr/share/nginx/html
COPY --from=0 /etc/passwd /tmp/passwd
COPY --from=demo/sidecar:1.0 /bin/sidecar /bin/sidecar
