package booking

// ListFree exposes listFree (the hall list's pass) to the tests.
var ListFree = (*Service).listFree
