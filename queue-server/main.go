// Command queue-server runs one hall's queue engine, store and API.
package main

func main() {}
