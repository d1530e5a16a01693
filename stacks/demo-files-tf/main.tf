# Driftwatch's Terraform/OpenTofu demo: files on the local disk (hashicorp/local) with a generated name
# (hashicorp/random), so drift can be produced by editing or deleting a file, without any cloud account.
terraform {
  required_providers {
    local = {
      source  = "hashicorp/local"
      version = "~> 2.9"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.9"
    }
  }
}

variable "dir" {
  type        = string
  description = "Directory the managed files live in."
}

resource "random_pet" "host" {
  length = 2
}

resource "local_file" "motd" {
  filename = "${var.dir}/motd.txt"
  content  = "Welcome to ${random_pet.host.id}. This file is watched by Driftwatch.\n"
}

resource "local_file" "settings" {
  filename = "${var.dir}/settings.ini"
  content  = "[service]\nreplicas = 2\n"
}
