module github.com/keycard-go/keycard/e2e

go 1.25

// Browser end-to-end tests: they build and run the keycard command's demo
// and drive it with headless Chromium.
