#!/usr/bin/perl
# Usage: rt-token.pl [description]  -> prints "<authstring>" for root
use strict; use warnings;
use lib "/usr/local/share/request-tracker5/lib", "/usr/share/request-tracker5/lib";
use RT; RT::LoadConfig(); RT::Init();
my $desc = shift || 'e2e';
my $user = RT::User->new(RT->SystemUser); $user->Load('root') or die "no root user";
my $cu = RT::CurrentUser->new($user);
my $token = RT::AuthToken->new($cu);
my ($id, $msg, $auth) = $token->Create(Owner => $user->id, Description => $desc);
die "token create failed: $msg\n" unless $id;
print "$auth\n";
