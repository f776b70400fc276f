package workflows

// ReplayWith lets tests replay with a changed workflow registered in its place.
var ReplayWith = replay
