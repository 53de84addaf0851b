# syntax=docker/dockerfile:1
# A static confcal binary (tz database embedded) in a minimal, non-root image.
# The build steps live in .ci/build, which CI also runs outside a container.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN bash .ci/build /out/confcal

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/confcal /confcal
USER nonroot:nonroot
EXPOSE 8080
# The binary checks itself: the image has no shell or curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/confcal", "-healthcheck"]
ENTRYPOINT ["/confcal"]
