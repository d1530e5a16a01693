// Command terraform-provider-fixture is a TEST FIXTURE, not a product: the provider `driftwatch/fixture` that
// Driftwatch's Terraform/OpenTofu tests run through the real CLIs. Its one resource, `fixture_object`, is a JSON
// file, so a test changes the "real world" by editing that file, and every attribute shape drift detection has
// to handle is there: plain, map, number, Optional+Computed, sensitive, replacement-forcing, and computed values
// that are unknown in a plan. The provisioning builds it with the test tools only (src/toolchain/terraform.ts).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// version is stamped in at link time (-X main.version=...) from toolchain/versions.json.
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run with support for debuggers (TF_REATTACH_PROVIDERS)")
	flag.Parse()

	// The CLIs do not compare this address with the mirror path the binary was installed from, so the same
	// binary serves as registry.terraform.io/driftwatch/fixture and registry.opentofu.org/driftwatch/fixture.
	err := providerserver.Serve(context.Background(), func() provider.Provider { return &fixtureProvider{} }, providerserver.ServeOpts{
		Address: "registry.terraform.io/driftwatch/fixture",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}

// fixtureProvider has no configuration: everything a resource needs is in its own attributes.
type fixtureProvider struct{}

func (p *fixtureProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "fixture"
	resp.Version = version
}

func (p *fixtureProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (p *fixtureProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *fixtureProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newObjectResource}
}

func (p *fixtureProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
