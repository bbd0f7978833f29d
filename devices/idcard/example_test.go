package idcard_test

import (
	"context"
	"fmt"
	"time"

	"hallq/devices/idcard"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// A kiosk reads the card on the reader, keeps only the key and the masked
// number, and gives elderly citizens priority.
func ExampleReader_ReadCard() {
	reader, _ := sim.NewIDCard(sim.IDCardOptions{}) // the real device in production
	defer reader.Close()
	reader.Place(sim.SampleElderly)

	port, err := serialport.Open(serialport.IDCardConfig(reader.Path()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	r := idcard.NewReader(port, idcard.Options{Now: func() time.Time { return now }})
	defer r.Close()

	card, err := r.ReadCard(context.Background())
	if err != nil {
		fmt.Println("error:", idcard.Code(err))
		return
	}
	fmt.Println(card.Type, card.Number, card.Age(now) >= 70)
	fmt.Println(len(card.Number.Key([]byte("hall secret"))))
	// Output:
	// resident 4201**********1232 true
	// 64
}

// Watch reports a card once when it is placed and once when it is removed.
func ExampleReader_Watch() {
	reader, _ := sim.NewIDCard(sim.IDCardOptions{})
	defer reader.Close()
	port, _ := serialport.Open(serialport.IDCardConfig(reader.Path()))
	defer port.Close()
	r := idcard.NewReader(port, idcard.Options{})
	defer r.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.Watch(ctx, 20*time.Millisecond)
	reader.Place(sim.SampleResident)
	e := <-events
	fmt.Println(e.Kind, e.Card.Number.Masked())
	reader.Remove()
	fmt.Println((<-events).Kind)
	// Output:
	// card present 4201**********1232
	// card removed
}

func ExampleIDNumber() {
	id, err := idcard.ParseIDNumber("11010519491231002x")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)
	fmt.Printf("%#v\n", id)
	fmt.Println(id.Key([]byte("hall-secret")))
	// Output:
	// 1101**********002X
	// idnumber.Number("1101**********002X")
	// cf6049a9da497dbb7a1db59c2fe8c51e9bb7b0db6e03fabb2165927026e032e8
}

// A reader set to 9600 baud: tell the driver the rate the port runs at, and
// it waits for the 1295-byte reply (1.35 s on the wire) plus the reader's
// card time, whatever the line rate.
func ExampleOptions_baud() {
	reader, _ := sim.NewIDCard(sim.IDCardOptions{Baud: 9600, ReadTime: 300 * time.Millisecond})
	defer reader.Close()
	reader.Place(sim.SampleResident)

	port, err := serialport.Open(serialport.Config{Path: reader.Path(), Baud: 9600})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	r := idcard.NewReader(port, idcard.Options{Baud: 9600})
	defer r.Close()
	fmt.Println(r.ExchangeTime(idcard.CmdReadText, 10).Round(10 * time.Millisecond))
	card, err := r.ReadCard(context.Background())
	fmt.Println(card.Number, err)
	// Output:
	// 2.66s
	// 4201**********1232 <nil>
}
