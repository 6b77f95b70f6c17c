package latchkey

// Environment separates test traffic from billable traffic.
type Environment string

// Environments. Demo keys are for testing: verify says so and usage is
// metered apart from production, which is what a product bills.
const (
	Production Environment = "production"
	Demo       Environment = "demo"
)

// Valid reports whether e is a known environment.
func (e Environment) Valid() bool { return e == Production || e == Demo }

// TokenTag is the environment's tag inside a token: "prod" or "demo".
func (e Environment) TokenTag() string {
	if e == Demo {
		return "demo"
	}
	return "prod"
}

// EnvironmentFromTag is the inverse of TokenTag.
func EnvironmentFromTag(tag string) (Environment, bool) {
	switch tag {
	case "prod":
		return Production, true
	case "demo":
		return Demo, true
	}
	return "", false
}
