package flow

import (
	"slices"
)

// Directory answers the people questions approver resolution asks, for one
// org (the adapter scopes it). An error means the answer is unknown (e.g.
// the database is down): Apply returns it unchanged so the command can be
// retried, rather than mistaking it for "nobody".
type Directory interface {
	// Exists reports whether person is a current member of the org.
	Exists(person string) (bool, error)
	// Manager returns person's direct manager, or "" at the top.
	Manager(person string) (string, error)
	// DepartmentHead returns the head of person's department, or "".
	DepartmentHead(person string) (string, error)
	// RoleMembers returns everyone holding role, in any order.
	RoleMembers(role string) ([]string, error)
	// Admin returns the org's approval admin, or "" when there is none.
	Admin() (string, error)
}

// Person is one entry of a StaticDirectory.
type Person struct {
	ID         string   `json:"id"`
	Manager    string   `json:"manager,omitempty"`
	Department string   `json:"department,omitempty"`
	Roles      []string `json:"roles,omitempty"`
}

// StaticDirectory is an in-memory Directory for tests and tools. It never
// returns an error. Build it with NewStaticDirectory; it is not safe to
// modify while Apply runs.
type StaticDirectory struct {
	people map[string]Person
	heads  map[string]string // department -> head
	admin  string
}

// NewStaticDirectory builds a directory from people, the head of each
// department, and the admin ("" for none).
func NewStaticDirectory(people []Person, heads map[string]string, admin string) *StaticDirectory {
	d := &StaticDirectory{people: make(map[string]Person, len(people)), heads: map[string]string{}, admin: admin}
	for _, p := range people {
		d.people[p.ID] = p
	}
	for dep, h := range heads {
		d.heads[dep] = h
	}
	return d
}

// Put adds or replaces a person.
func (d *StaticDirectory) Put(p Person) { d.people[p.ID] = p }

// Remove deletes a person.
func (d *StaticDirectory) Remove(id string) { delete(d.people, id) }

func (d *StaticDirectory) Exists(person string) (bool, error) {
	_, ok := d.people[person]
	return ok, nil
}

func (d *StaticDirectory) Manager(person string) (string, error) {
	return d.people[person].Manager, nil
}

func (d *StaticDirectory) DepartmentHead(person string) (string, error) {
	p, ok := d.people[person]
	if !ok || p.Department == "" {
		return "", nil
	}
	return d.heads[p.Department], nil
}

// RoleMembers returns the members sorted by id.
func (d *StaticDirectory) RoleMembers(role string) ([]string, error) {
	var out []string
	for id, p := range d.people {
		if slices.Contains(p.Roles, role) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d *StaticDirectory) Admin() (string, error) { return d.admin, nil }
