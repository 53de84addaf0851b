# syntax=docker/dockerfile:1
# A static confcal binary (tz database embedded) in a minimal, non-root image.
# The build steps live in .ci/build, which CI also runs outside a container.
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t confcal .
#
# VERSION is what the binary reports (confcal_build_info, the start-up log):
# .dockerignore keeps .git out of the build context, so git describe cannot
# run in here. Without it the version is "unknown".

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION
RUN VERSION="${VERSION}" bash .ci/build /out/confcal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/confcal /confcal
USER nonroot:nonroot
EXPOSE 8080
# The binary checks itself: the image has no shell or curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/confcal", "-healthcheck"]
ENTRYPOINT ["/confcal"]
