package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/keycard-go/keycard/cmd/keycard/internal/keyfile"
)

// defaultKeysFile is the key file of "keys new" when neither --out nor
// $KEYCARD_KEYS_FILE names one; "keycard demo" uses it by default too.
const defaultKeysFile = "keycard-demo.keys"

func cmdKeysNew(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys new")
	out := nonEmptyFlag(fs, "out", envOr("KEYCARD_KEYS_FILE", defaultKeysFile), "a file, or - for standard output")
	force := fs.Bool("force", false, "")
	operands, err := parse(fs, "keys new", usageKeys, args, stdout)
	if err != nil {
		return err
	}
	if len(operands) > 0 {
		return usageError("keys new", fmt.Sprintf("unexpected argument %q; name the file with --out", operands[0]))
	}
	path := *out
	data, err := keyfile.Generate(time.Now()).MarshalText()
	if err != nil {
		return failure(err.Error())
	}
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	if err := writeKeys(path, data, *force); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "keycard: wrote new keys to %s (mode 0600); keep it secret\n", path)
	return nil
}

// writeKeys writes a key file, explaining the usual failures.
func writeKeys(path string, data []byte, force bool) error {
	err := keyfile.Write(path, data, force)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return failure(fmt.Sprintf("%s already exists", path),
			"pass --force to replace it: every session and token signed with its keys then stops working",
			"or choose another file with --out")
	}
	return failure(fmt.Sprintf("cannot write keys: %v", err))
}
