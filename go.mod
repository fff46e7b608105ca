module github.com/keycard-go/keycard

go 1.25
