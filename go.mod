module hallq

go 1.26
