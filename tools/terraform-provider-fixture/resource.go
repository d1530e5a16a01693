package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// objectResource is `fixture_object`: the JSON file at `path` is the real-world object, so a test that edits
// the file by hand has changed the object out of band.
type objectResource struct{}

var (
	_ resource.Resource                = (*objectResource)(nil)
	_ resource.ResourceWithImportState = (*objectResource)(nil)
)

func newObjectResource() resource.Resource { return &objectResource{} }

// objectModel is the resource's state and plan.
type objectModel struct {
	ID       types.String `tfsdk:"id"`
	Path     types.String `tfsdk:"path"`
	Content  types.String `tfsdk:"content"`
	Tags     types.Map    `tfsdk:"tags"`
	Size     types.Int64  `tfsdk:"size"`
	Zone     types.String `tfsdk:"zone"`
	Label    types.String `tfsdk:"label"`
	Secret   types.String `tfsdk:"secret"`
	Revision types.Int64  `tfsdk:"revision"`
}

// objectFile is what the file holds: every attribute but path and id, flat, with JSON null for a null value,
// so that a test can read and write it without knowing the provider.
type objectFile struct {
	Content  *string           `json:"content"`
	Tags     map[string]string `json:"tags"`
	Size     *int64            `json:"size"`
	Zone     *string           `json:"zone"`
	Label    *string           `json:"label"`
	Secret   *string           `json:"secret"`
	Revision int64             `json:"revision"`
}

// defaultLabel is what Create gives `label` when the configuration leaves it out.
const defaultLabel = "auto"

func (r *objectResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_object"
}

func (r *objectResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A JSON file standing in for a cloud object (Driftwatch test fixture).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				Description:   "The file's path.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"path": schema.StringAttribute{
				Required:      true,
				Description:   "The JSON file that is the object.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"content": schema.StringAttribute{Optional: true},
			"tags":    schema.MapAttribute{Optional: true, ElementType: types.StringType},
			"size":    schema.Int64Attribute{Optional: true},
			"zone": schema.StringAttribute{
				Optional:      true,
				Description:   "Changing it, in the configuration or in the file, replaces the object.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"label": schema.StringAttribute{
				Optional:    true,
				Computed:    true,
				Description: `"auto" unless the configuration sets it; left out of the configuration, whatever the file says is kept.`,
				// Without it every update would plan label as unknown; with it a label the configuration does not
				// manage stays what it is, including after an out-of-band change.
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"secret": schema.StringAttribute{Optional: true, Sensitive: true},
			// Deliberately without UseStateForUnknown: an update plans it as unknown, as real providers do with
			// server-side values (etags, versions, timestamps).
			"revision": schema.Int64Attribute{
				Computed:    true,
				Description: "Incremented by every create and update.",
			},
		},
	}
}

func (r *objectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Label.IsNull() || plan.Label.IsUnknown() {
		plan.Label = types.StringValue(defaultLabel)
	}
	plan.ID = plan.Path
	plan.Revision = types.Int64Value(1)
	r.write(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Read refreshes every attribute from the file, so any edit of it is drift; no file means deleted out of band.
func (r *objectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state objectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	raw, err := os.ReadFile(state.Path.ValueString())
	if errors.Is(err, fs.ErrNotExist) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the object", err.Error())
		return
	}
	var file objectFile
	if err := json.Unmarshal(raw, &file); err != nil {
		resp.Diagnostics.AddError("The object's file is not a JSON object", fmt.Sprintf("%s: %s", state.Path.ValueString(), err))
		return
	}
	tags := types.MapNull(types.StringType)
	if file.Tags != nil {
		var d diag.Diagnostics
		tags, d = types.MapValueFrom(ctx, types.StringType, file.Tags)
		resp.Diagnostics.Append(d...)
	}
	state.ID = state.Path
	state.Content = types.StringPointerValue(file.Content)
	state.Tags = tags
	state.Size = types.Int64PointerValue(file.Size)
	state.Zone = types.StringPointerValue(file.Zone)
	state.Label = types.StringPointerValue(file.Label)
	state.Secret = types.StringPointerValue(file.Secret)
	state.Revision = types.Int64Value(file.Revision)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *objectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior objectModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Label.IsUnknown() {
		plan.Label = types.StringValue(defaultLabel)
	}
	plan.ID = plan.Path
	plan.Revision = types.Int64Value(prior.Revision.ValueInt64() + 1)
	r.write(ctx, plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *objectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state objectModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := os.Remove(state.Path.ValueString()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		resp.Diagnostics.AddError("Cannot delete the object", err.Error())
	}
}

// ImportState takes the file's path as the import ID; the Read that follows fills in the rest.
func (r *objectResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("path"), req, resp)
}

// write stores every attribute of m but path and id in the file at m.Path, creating its directory.
func (r *objectResource) write(ctx context.Context, m objectModel, diags *diag.Diagnostics) {
	file := objectFile{
		Content:  m.Content.ValueStringPointer(),
		Size:     m.Size.ValueInt64Pointer(),
		Zone:     m.Zone.ValueStringPointer(),
		Label:    m.Label.ValueStringPointer(),
		Secret:   m.Secret.ValueStringPointer(),
		Revision: m.Revision.ValueInt64(),
	}
	if !m.Tags.IsNull() {
		file.Tags = map[string]string{}
		if diags.Append(m.Tags.ElementsAs(ctx, &file.Tags, false)...); diags.HasError() {
			return
		}
	}
	raw, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		diags.AddError("Cannot encode the object", err.Error())
		return
	}
	target := m.Path.ValueString()
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		diags.AddError("Cannot create the object's directory", err.Error())
		return
	}
	if err := os.WriteFile(target, append(raw, '\n'), 0o644); err != nil {
		diags.AddError("Cannot write the object", err.Error())
	}
}
