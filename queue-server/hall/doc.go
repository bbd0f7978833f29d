// Package hall is the queue domain of a public-security service hall: its
// configuration (services, windows, rules), tickets and their life cycle,
// the ordering that decides who is called next, wait estimates, and the one
// Service through which every change is decided and journalled.
//
// It speaks the business and imports only the standard library. Storage,
// transport and devices live in other packages and reach the hall through
// the small interfaces defined here (Journal, Clock).
//
// Words (English identifier / Chinese label):
//
//	Ticket 号票, Service 业务, Window 窗口, Call 叫号, Recall 重呼,
//	NoShow 过号, Park 挂起, Transfer 转移, Rating 好差评, DayClose 日结.
package hall
