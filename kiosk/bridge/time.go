package bridge

import "time"

// seconds turns the API's estimate into a duration; -1 (unknown) stays negative.
func seconds(s int) time.Duration {
	if s < 0 {
		return -1
	}
	return time.Duration(s) * time.Second
}
