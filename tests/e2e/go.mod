module github.com/keycard-go/keycard/tests/e2e

go 1.25

// Browser end-to-end tests: they build and run the keycard command's demo
// and drive it with headless Chromium.

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
)

require github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
