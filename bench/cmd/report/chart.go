package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

var (
	white   = color.RGBA{255, 255, 255, 255}
	ink     = color.RGBA{33, 37, 41, 255}
	faint   = color.RGBA{120, 124, 130, 255}
	grid    = color.RGBA{230, 232, 235, 255}
	keycard = color.RGBA{31, 111, 214, 255}
	peer    = color.RGBA{150, 156, 164, 255}
	node    = color.RGBA{230, 140, 40, 255}
	ceiling = color.RGBA{60, 160, 90, 255}
)

func face(ttf []byte, size float64) font.Face {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(err)
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return fc
}

type canvas struct {
	img                 *image.RGBA
	regular, bold, tiny font.Face
}

func (c *canvas) text(x, y int, s string, f font.Face, col color.Color) int {
	d := &font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return d.Dot.X.Round()
}

func (c *canvas) width(s string, f font.Face) int {
	return font.MeasureString(f, s).Round()
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

// A bar is one labelled value of a panel.
type bar struct {
	label string
	value float64
	text  string
	col   color.Color
}

// panel draws horizontal bars in the box at x, y of width w.
func (c *canvas) panel(x, y, w int, title, sub string, bars []bar) {
	c.text(x, y, title, c.bold, ink)
	c.text(x, y+20, sub, c.tiny, faint)
	labelW := 0
	for _, b := range bars {
		labelW = max(labelW, c.width(b.label, c.regular))
	}
	top := y + 40
	left := x + labelW + 12
	right := x + w - 170
	maxV := 0.0
	for _, b := range bars {
		maxV = max(maxV, b.value)
	}
	if maxV == 0 {
		maxV = 1
	}
	const rowH = 34
	for i := 0; i <= 4; i++ {
		gx := left + (right-left)*i/4
		c.rect(gx, top-4, gx+1, top+rowH*len(bars), grid)
	}
	for i, b := range bars {
		by := top + i*rowH
		c.text(left-12-c.width(b.label, c.regular), by+19, b.label, c.regular, ink)
		bw := int(float64(right-left) * b.value / maxV)
		c.rect(left, by+4, left+max(bw, 1), by+rowH-6, b.col)
		c.text(left+bw+6, by+19, b.text, c.regular, ink)
	}
}

func colorOf(name string) color.Color {
	switch {
	case strings.HasPrefix(name, "bare"):
		return ceiling
	case strings.HasPrefix(name, "keycard"), strings.Contains(name, "Keycard"):
		return keycard
	case strings.HasPrefix(name, "express"):
		return node
	}
	return peer
}

func plain(label string) string { return strings.ReplaceAll(label, "**", "") }

// chart draws the main comparisons, two panels a row: the HTTP workloads
// (requests per second of the hot and spread reads and of the hot write,
// the hot write's p99 with its lost updates), and, with in-process
// results, the time each library adds to a read.
func (r *report) chart(name string) error {
	type panel struct {
		title, sub string
		bars       []bar
	}
	var panels []panel
	httpPanel := func(workload, title string, value func(Run) float64, label func(server string, v float64) string, sub string) {
		var bars []bar
		for _, s := range serverOrder {
			v, ok := r.httpStat(s.name, workload, value)
			if !ok {
				continue
			}
			bars = append(bars, bar{plain(s.label), v, label(s.name, v), colorOf(s.name)})
		}
		if len(bars) > 0 {
			panels = append(panels, panel{title, sub, bars})
		}
	}
	rate := func(_ string, v float64) string { return fmt.Sprintf("%.0f/s", v) }
	rps := func(x Run) float64 { return x.RPS }
	httpPanel("read-hot", "Read, every connection on one session: requests/s", rps, rate, "higher is better; medians, same run")
	httpPanel("read-spread", "Read, a session per connection: requests/s", rps, rate, "higher is better; medians, same run")
	httpPanel("write-hot", "Write, every connection on one session: requests/s", rps, func(server string, v float64) string {
		if lost, acked, ok := r.lost(server, "write-hot"); ok && !strings.HasPrefix(server, "bare") {
			share := 100 * float64(lost) / float64(max(acked, 1))
			if lost == 0 {
				return fmt.Sprintf("%.0f/s, none lost", v)
			}
			if share < 0.1 {
				return fmt.Sprintf("%.0f/s, %d of %d lost", v, lost, acked)
			}
			return fmt.Sprintf("%.0f/s, %.1f%% lost", v, share)
		}
		return fmt.Sprintf("%.0f/s", v)
	}, "higher is better; share of acknowledged increments lost")
	httpPanel("write-hot", "Write, every connection on one session: p99", func(x Run) float64 { return x.P99 / 1e3 }, func(_ string, v float64) string {
		return fmt.Sprintf("%.1f ms", v)
	}, "lower is better; medians, same run")
	var procBars []bar
	for _, o := range implOrder {
		if o.lib == "bare" {
			continue
		}
		d, ok := r.diff("read", o.impl, impl{"none", "bare"}, "ns/op")
		if !ok {
			continue
		}
		allocs, _ := r.diff("read", o.impl, impl{"none", "bare"}, "allocs/op")
		v := d / 1e3
		procBars = append(procBars, bar{plain(o.name), v, fmt.Sprintf("+%.1f µs, +%.0f allocs", v, allocs), colorOf(o.server)})
	}
	if len(procBars) > 0 {
		panels = append(panels, panel{"In process: time a read adds over the bare handler", "lower is better; go test -bench medians, same run", procBars})
	}
	if len(panels) == 0 {
		return fmt.Errorf("chart: no results to draw")
	}
	const width, colW, top = 1500, 740, 74
	h := top
	var rowH []int
	for i := 0; i < len(panels); i += 2 {
		n := len(panels[i].bars)
		if i+1 < len(panels) {
			n = max(n, len(panels[i+1].bars))
		}
		rowH = append(rowH, 70+34*n)
		h += 70 + 34*n
	}
	h += 40
	c := &canvas{
		img:     image.NewRGBA(image.Rect(0, 0, width, h)),
		regular: face(goregular.TTF, 15),
		bold:    face(gobold.TTF, 17),
		tiny:    face(goregular.TTF, 13),
	}
	c.rect(0, 0, width, h, white)
	c.text(24, 34, "Keycard and its peers over HTTP on loopback (bench/run.sh)", face(gobold.TTF, 21), ink)
	y := top
	for i, p := range panels {
		x := 24
		if i%2 == 1 {
			x = 24 + colW + 12
		}
		c.panel(x, y, colW-12, p.title, p.sub, p.bars)
		if i%2 == 1 || i == len(panels)-1 {
			y += rowH[i/2]
		}
	}
	c.text(24, h-16, "Blue: Keycard.  Grey: Go peers (scs, gorilla/sessions).  Orange: express-session (Node).  Green: bare net/http, alone, with the cache headers, and plus one Redis GET.", c.tiny, faint)
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return png.Encode(f, c.img)
}
